"""What a person is told when the service refuses, in Swedish and English, by the kind of refusal.

One table gives each domain error class its kind (the most specific class first); another gives each kind
its words. Pages and page scripts show these words, never a domain error's ``message``: that is English,
for logs and API clients. A page that knows more than the class (``no_codes``, ``password_short``) names
the kind itself.
"""

from __future__ import annotations

import math

from chalicelib.domain.accounts import MAX_DAILY_MESSAGES, InvalidDailyLimit, InvalidLinkCode, SendingQuotaExceeded
from chalicelib.domain.contacts import InvalidCountry
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    Locked,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from chalicelib.domain.shares import (
    MAX_LIFETIME_DAYS,
    InvalidLanguage,
    InvalidLifetime,
    LinkLocked,
    StillPreparing,
    TooManyCodes,
    WrongSecret,
)
from chalicelib.domain.staff import InvalidRole, InvalidStaffEmail, OwnAccount, StaffExists
from chalicelib.services.accounts import MAX_LINK_CODE, MIN_LINK_CODE

#: Each error class's kind of refusal; the first class the error is an instance of wins.
KINDS: tuple[tuple[type[DomainError], str], ...] = (
    (WrongSecret, "wrong"),
    (LinkLocked, "locked"),
    (TooManyCodes, "too_many_codes"),
    (SendingQuotaExceeded, "quota"),
    (StillPreparing, "preparing"),
    (InvalidLinkCode, "link_code_length"),
    (InvalidDailyLimit, "daily_limit"),
    (InvalidLifetime, "lifetime"),
    (InvalidLanguage, "language"),
    (InvalidCountry, "country"),
    (InvalidRole, "role"),
    (InvalidStaffEmail, "staff_email"),
    (StaffExists, "staff_exists"),
    (OwnAccount, "own_account"),
    (Locked, "locked"),
    (TooManyRequests, "too_many"),
    (Gone, "gone"),
    (NotFound, "not_found"),
    (Conflict, "conflict"),
    (Unauthenticated, "session"),
    (Forbidden, "forbidden"),
    (InvalidInput, "invalid"),
    (Unavailable, "unavailable"),
    (DomainError, "refused"),
)

#: The words of each kind, (Swedish, English); ``{minutes}`` is how long a lock or a rate still holds
#: ("15 minuter", "1 minute").
WORDS: dict[str, tuple[str, str]] = {
    "wrong": ("Koden eller lösenordet stämmer inte.", "That code or password is not right."),
    "locked": (
        "För många försök. Försök igen om {minutes}.",
        "Too many attempts. Try again in {minutes}.",
    ),
    "too_many_codes": (
        "En kod har skickats tre gånger den senaste timmen. Använd den senaste koden eller försök igen om {minutes}.",
        "A code was sent three times in the last hour. Use the latest code or try again in {minutes}.",
    ),
    "quota": (
        "Mottagningen kan inte skicka fler meddelanden i dag. Försök igen i morgon eller kontakta mottagningen.",
        "The clinic cannot send more messages today. Try again tomorrow or contact the clinic.",
    ),
    "no_codes": ("Den här länken använder inga engångskoder.", "This link does not use one-time codes."),
    "password_short": (
        "Lösenordet måste ha minst 8 tecken. Det sparades inte.",
        "The password must have at least 8 characters. It was not saved.",
    ),
    "preparing": (
        "Filerna förbereds fortfarande. Försök igen om en stund.",
        "The files are still being prepared. Try again in a moment.",
    ),
    "link_code_length": (
        f"Länkkoden måste ha {MIN_LINK_CODE} till {MAX_LINK_CODE} tecken.",
        f"The link code must have {MIN_LINK_CODE} to {MAX_LINK_CODE} characters.",
    ),
    "daily_limit": (
        f"Meddelanden per dag måste vara ett heltal från 1 till {MAX_DAILY_MESSAGES}.",
        f"Messages a day must be a whole number from 1 to {MAX_DAILY_MESSAGES}.",
    ),
    "lifetime": (
        f"En länk måste gälla i 1 till {MAX_LIFETIME_DAYS} dagar.",
        f"A link must work for 1 to {MAX_LIFETIME_DAYS} days.",
    ),
    "language": ("Språket måste vara svenska eller engelska.", "The language must be Swedish or English."),
    "country": (
        "Landet måste vara en landskod med två bokstäver, till exempel SE.",
        "The country must be a two-letter country code such as SE.",
    ),
    "role": ("Rollen måste vara administratör eller kliniker.", "The role must be administrator or clinician."),
    "staff_email": ("E-postadressen är inte giltig.", "The e-mail address is not valid."),
    "staff_exists": (
        "Det finns redan en medarbetare med den e-postadressen.",
        "A staff member with this e-mail address exists already.",
    ),
    "own_account": (
        "Du kan inte stänga av eller aktivera dig själv.",
        "You cannot disable or enable yourself.",
    ),
    "too_many": (
        "För många förfrågningar. Försök igen om {minutes}.",
        "Too many requests. Try again in {minutes}.",
    ),
    "gone": ("Det har upphört eller tagits bort.", "It has ended or been deleted."),
    "not_found": (
        "Det finns inte, eller hör till en annan klinik.",
        "It does not exist, or belongs to another clinic.",
    ),
    "conflict": (
        "Det går inte som det ser ut nu. Ladda om sidan för att se läget och försök igen.",
        "That cannot be done as things stand. Reload the page to see where things are and try again.",
    ),
    "session": ("Du är inte inloggad längre. Logga in igen.", "You are no longer signed in. Sign in again."),
    "forbidden": ("Det får du inte göra.", "You may not do that."),
    "invalid": (
        "Uppgifterna godtogs inte. Kontrollera dem och försök igen.",
        "That was not accepted. Check it and try again.",
    ),
    "unavailable": (
        "Tjänsten svarar inte just nu. Försök igen om en stund.",
        "The service is not answering just now. Try again in a moment.",
    ),
    "refused": ("Det gick inte. Försök igen.", "That did not work. Try again."),
}


def kind_of(err: DomainError) -> str:
    """The kind of refusal ``err`` is."""
    return next(kind for cls, kind in KINDS if isinstance(err, cls))


def worded(kind: str, lang: str, minutes: int = 0) -> str:
    """The words of a kind of refusal in ``lang``."""
    sv, en = WORDS[kind]
    unit = ("minut", "minuter") if lang == "sv" else ("minute", "minutes")
    return (sv if lang == "sv" else en).format(minutes=f"{minutes} {unit[minutes != 1]}")


def refusal(err: DomainError, lang: str, kind: str | None = None) -> str:
    """What ``err`` tells a person in ``lang`` (``kind`` when the page knows better than the class)."""
    return worded(kind or kind_of(err), lang, minutes_left(err))


def in_both(err: DomainError) -> tuple[str, str]:
    """What ``err`` tells a person, in Swedish and in English (for pages that pick with ``t``)."""
    return refusal(err, "sv"), refusal(err, "en")


def minutes_left(err: DomainError) -> int:
    """Whole minutes until a lock or a rate lets go (at least one); 0 for refusals that do not end."""
    if isinstance(err, Locked | TooManyRequests | Unavailable):
        return max(1, math.ceil(err.retry_after_s / 60))
    return 0

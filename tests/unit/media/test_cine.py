from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from chalicelib.media.cine import DEFAULT_CINE_FPS, frame_rate, is_cine, number_of_frames

from .samples import pydicom_file


def dataset(**attributes: object) -> Dataset:
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"NumberOfFrames": 30, "Modality": "XA", "CineRate": 15}, True),
        ({"NumberOfFrames": 30, "Modality": "ES", "RecommendedDisplayFrameRate": 25}, True),
        ({"NumberOfFrames": 30, "Modality": "XA", "FrameTime": 40}, True),
        ({"NumberOfFrames": 3, "Modality": "NM", "FrameTimeVector": [0, 40, 40]}, True),
        ({"NumberOfFrames": 30, "Modality": "US"}, True),  # US multi-frame is a loop even untimed
        ({"NumberOfFrames": 120, "Modality": "CT"}, False),  # a volume: a stack of stills
        ({"NumberOfFrames": 1, "Modality": "US", "FrameTime": 33}, False),
        ({"Modality": "US", "CineRate": 30}, False),
    ],
)
def test_is_cine(attributes: dict[str, object], expected: bool) -> None:
    assert is_cine(dataset(**attributes)) is expected


def test_pydicom_ultrasound_loop_is_a_cine_at_its_frame_time() -> None:
    from pydicom import dcmread

    header = dcmread(pydicom_file("examples_ybr_color.dcm"), stop_before_pixels=True)
    assert is_cine(header)
    assert frame_rate(header) == pytest.approx(1000 / 33.333)
    assert not is_cine(dcmread(pydicom_file("CT_small.dcm"), stop_before_pixels=True))


@pytest.mark.parametrize(
    ("attributes", "fps"),
    [
        ({"CineRate": 24, "RecommendedDisplayFrameRate": 50, "FrameTime": 10}, 24.0),
        ({"RecommendedDisplayFrameRate": 50, "FrameTime": 10}, 50.0),
        ({"FrameTime": 40}, 25.0),
        ({"FrameTimeVector": [0, 20, 20, 60]}, 1000 / (100 / 3)),  # first value is the 0 ms offset
        ({"CineRate": 0, "FrameTime": 50}, 20.0),  # unusable values fall through to the next source
        ({"FrameTime": -5}, DEFAULT_CINE_FPS),
        ({"CineRate": 5000}, DEFAULT_CINE_FPS),
        ({}, DEFAULT_CINE_FPS),
    ],
)
def test_frame_rate_sources_in_order(attributes: dict[str, object], fps: float) -> None:
    assert frame_rate(dataset(**attributes)) == pytest.approx(fps)


def test_frame_rate_from_a_single_valued_frame_time_vector() -> None:
    assert frame_rate(dataset(FrameTimeVector=25)) == pytest.approx(40.0)


def test_number_of_frames_defaults_to_one() -> None:
    assert number_of_frames(dataset()) == 1
    assert number_of_frames(dataset(NumberOfFrames=7)) == 7

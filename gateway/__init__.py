"""The clinic's DICOM gateway: receives studies by C-STORE, keeps them on disk, uploads them to patient-share.

It runs on site (a small box, a container or a systemd service), never in a Lambda: its dependencies are
``requirements-gateway.txt``, and ``tests/infra`` checks that neither it nor pynetdicom is packaged.

    python -m gateway --ae-title PSHARE --port 11112 --api-url https://… --api-key-file /etc/patient-share/key \\
        --allow US1@192.168.1.20

* ``scp``    — the Storage SCP (pynetdicom): acknowledges an instance only once it is safely in the spool;
* ``spool``  — the directory that holds every acknowledged instance until the service says it is stored;
* ``sender`` — uploads the spool through the service's pre-signed upload route, with backoff;
* ``api``    — the service's HTTP API as the sender needs it;
* ``cli``    — the command line (``--status``, ``--retry-failed``) and the process that runs the two.
"""

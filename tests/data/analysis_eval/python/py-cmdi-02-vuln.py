import os
from pathlib import Path

UPLOADS = Path("/srv/uploads")


def list_archive(archive_name: str) -> list[str]:
    archive = UPLOADS / archive_name
    stream = os.popen(f"tar -tzf {archive}")
    try:
        return [line.strip() for line in stream if line.strip()]
    finally:
        stream.close()

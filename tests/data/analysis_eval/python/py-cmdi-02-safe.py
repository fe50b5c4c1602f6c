import tarfile
from pathlib import Path

UPLOADS = Path("/srv/uploads")


def list_archive(archive_name: str) -> list[str]:
    archive = UPLOADS / Path(archive_name).name
    with tarfile.open(archive, "r:gz") as tf:
        return [member.name for member in tf.getmembers()]

import subprocess


def disk_report(mount: str) -> str:
    out = subprocess.check_output(
        "df -h --output=source,size,used,avail %s | sort -k4 -h" % mount,
        shell=True,
        text=True,
    )
    return out

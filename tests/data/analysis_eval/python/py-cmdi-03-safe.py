import subprocess


def disk_report() -> str:
    out = subprocess.check_output(
        "df -h --output=source,size,used,avail | sort -k4 -h",
        shell=True,
        text=True,
    )
    return out

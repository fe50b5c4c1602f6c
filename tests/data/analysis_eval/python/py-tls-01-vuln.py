import requests


def capture_charge(charge_id: str, api_key: str) -> dict:
    resp = requests.post(
        f"https://payments.example.net/v1/charges/{charge_id}/capture",
        headers={"Authorization": f"Bearer {api_key}"},
        verify=False,
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()

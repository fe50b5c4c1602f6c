from defusedxml import ElementTree as SafeET


def parse_invoice(xml_bytes: bytes) -> dict:
    root = SafeET.fromstring(xml_bytes)
    return {
        "number": root.findtext("number"),
        "customer": root.findtext("customer/name"),
        "total": float(root.findtext("total") or 0),
    }

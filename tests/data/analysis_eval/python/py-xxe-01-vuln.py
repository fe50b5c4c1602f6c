from lxml import etree


def parse_invoice(xml_bytes: bytes) -> dict:
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
    root = etree.fromstring(xml_bytes, parser)
    return {
        "number": root.findtext("number"),
        "customer": root.findtext("customer/name"),
        "total": float(root.findtext("total") or 0),
    }

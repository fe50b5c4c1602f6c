<?php

function parse_order_xml(string $xml): array
{
    if (stripos($xml, '<!DOCTYPE') !== false) {
        throw new InvalidArgumentException('DTDs are not accepted');
    }
    $doc = simplexml_load_string($xml, 'SimpleXMLElement', LIBXML_NONET);
    if ($doc === false) {
        throw new InvalidArgumentException('bad XML');
    }
    return [
        'customer' => (string) $doc->customer,
        'items' => count($doc->items->item),
    ];
}

$order = parse_order_xml(file_get_contents('php://input'));

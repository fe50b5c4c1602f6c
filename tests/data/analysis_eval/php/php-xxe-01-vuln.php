<?php

function parse_order_xml(string $xml): array
{
    $doc = simplexml_load_string($xml, 'SimpleXMLElement', LIBXML_NOENT | LIBXML_DTDLOAD);
    if ($doc === false) {
        throw new InvalidArgumentException('bad XML');
    }
    return [
        'customer' => (string) $doc->customer,
        'items' => count($doc->items->item),
    ];
}

$order = parse_order_xml(file_get_contents('php://input'));

<?php

function member_email(string $memberId): ?string
{
    $doc = new DOMDocument();
    $doc->load('/srv/data/members.xml');
    $xpath = new DOMXPath($doc);
    $nodes = $xpath->query("//member[@id='" . $memberId . "']/email");
    return $nodes->length ? $nodes->item(0)->textContent : null;
}

echo htmlspecialchars((string) member_email($_GET['id'] ?? ''), ENT_QUOTES, 'UTF-8');

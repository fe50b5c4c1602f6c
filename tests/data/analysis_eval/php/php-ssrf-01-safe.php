<?php

function fetch_remote_avatar(): void
{
    $url = $_GET['avatar_url'] ?? '';
    $parts = parse_url($url);
    if (($parts['scheme'] ?? '') !== 'https' || ($parts['host'] ?? '') !== 'www.gravatar.com' || isset($parts['port']) || isset($parts['user'])) {
        http_response_code(400);
        return;
    }
    $data = @file_get_contents($url);
    if ($data === false) {
        http_response_code(502);
        return;
    }
    header('Content-Type: image/png');
    echo $data;
}

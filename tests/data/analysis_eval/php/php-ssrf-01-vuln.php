<?php

function fetch_remote_avatar(): void
{
    $url = $_GET['avatar_url'] ?? '';
    $data = @file_get_contents($url);
    if ($data === false) {
        http_response_code(502);
        return;
    }
    header('Content-Type: image/png');
    echo $data;
}

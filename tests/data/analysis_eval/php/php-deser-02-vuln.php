<?php

function import_settings(): array
{
    $payload = file_get_contents('php://input');
    $settings = unserialize($payload);
    if (!is_array($settings)) {
        http_response_code(400);
        return [];
    }
    return $settings;
}

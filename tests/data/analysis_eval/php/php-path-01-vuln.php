<?php

function download_manual(): void
{
    $base = '/var/www/manuals/';
    $doc = $_GET['doc'] ?? 'index.pdf';
    $file = $base . $doc;
    if (!is_file($file)) {
        http_response_code(404);
        exit;
    }
    header('Content-Type: application/pdf');
    header('Content-Disposition: attachment; filename="' . basename($file) . '"');
    readfile($file);
}

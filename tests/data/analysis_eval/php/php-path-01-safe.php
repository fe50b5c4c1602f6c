<?php

function download_manual(): void
{
    $base = realpath('/var/www/manuals') . DIRECTORY_SEPARATOR;
    $doc = $_GET['doc'] ?? 'index.pdf';
    $file = realpath($base . $doc);
    if ($file === false || strpos($file, $base) !== 0 || !is_file($file)) {
        http_response_code(404);
        exit;
    }
    header('Content-Type: application/pdf');
    header('Content-Disposition: attachment; filename="' . basename($file) . '"');
    readfile($file);
}

<?php

function store_upload(array $file, string $folder): string
{
    $allowed = ['misc', 'invoices', 'contracts'];
    if (!in_array($folder, $allowed, true)) {
        $folder = 'misc';
    }
    $ext = strtolower(pathinfo($file['name'], PATHINFO_EXTENSION));
    $name = bin2hex(random_bytes(16)) . (preg_match('/^[a-z0-9]{1,5}$/', $ext) ? ".$ext" : '');
    $dest = __DIR__ . '/storage/' . $folder . '/' . $name;
    if (!move_uploaded_file($file['tmp_name'], $dest)) {
        throw new RuntimeException('upload failed');
    }
    return $dest;
}

store_upload($_FILES['attachment'], $_POST['folder'] ?? 'misc');

<?php

function store_upload(array $file, string $folder): string
{
    $dest = __DIR__ . '/storage/' . $folder . '/' . $file['name'];
    if (!move_uploaded_file($file['tmp_name'], $dest)) {
        throw new RuntimeException('upload failed');
    }
    return $dest;
}

store_upload($_FILES['attachment'], $_POST['folder'] ?? 'misc');

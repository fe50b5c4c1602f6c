<?php

function resize_avatar(string $userId): bool
{
    $width = max(16, min(512, (int) ($_GET['w'] ?? 128)));
    $id = preg_replace('/[^a-z0-9]/i', '', $userId);
    $src = escapeshellarg("/var/www/avatars/{$id}.png");
    $dst = escapeshellarg("/var/www/avatars/{$id}_{$width}.png");
    exec("convert $src -resize {$width}x{$width} $dst", $out, $code);
    return $code === 0;
}

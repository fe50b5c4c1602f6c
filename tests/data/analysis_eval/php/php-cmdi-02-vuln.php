<?php

function resize_avatar(string $userId): bool
{
    $width = $_GET['w'] ?? '128';
    $src = "/var/www/avatars/{$userId}.png";
    $dst = "/var/www/avatars/{$userId}_{$width}.png";
    exec("convert $src -resize {$width}x{$width} $dst", $out, $code);
    return $code === 0;
}

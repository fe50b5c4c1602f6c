<?php

function read_cache(string $key): ?array
{
    $path = sys_get_temp_dir() . '/appcache/' . sha1($key) . '.ser';
    if (!is_file($path) || filemtime($path) < time() - 300) {
        return null;
    }
    $value = unserialize(file_get_contents($path), ['allowed_classes' => false]);
    return is_array($value) ? $value : null;
}

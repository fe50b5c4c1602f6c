<?php

function after_login_redirect(): void
{
    $target = $_GET['url'] ?? '/home.php';
    if (!preg_match('#^/(?![/\\\\])[A-Za-z0-9/_\-.?=&]*$#', $target)) {
        $target = '/home.php';
    }
    header('Location: ' . $target, true, 302);
    exit;
}

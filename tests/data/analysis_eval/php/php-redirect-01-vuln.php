<?php

function after_login_redirect(): void
{
    $target = $_GET['url'] ?? '/home.php';
    header('Location: ' . $target, true, 302);
    exit;
}

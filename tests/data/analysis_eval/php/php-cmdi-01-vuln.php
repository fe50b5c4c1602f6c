<?php

function whois_lookup(): string
{
    $domain = trim($_POST['domain'] ?? '');
    if ($domain === '') {
        return 'Please enter a domain.';
    }
    $output = shell_exec('whois ' . $domain . ' 2>&1');
    return '<pre>' . htmlspecialchars((string) $output, ENT_QUOTES, 'UTF-8') . '</pre>';
}

<?php

function whois_lookup(): string
{
    $domain = trim($_POST['domain'] ?? '');
    if (filter_var($domain, FILTER_VALIDATE_DOMAIN, FILTER_FLAG_HOSTNAME) === false) {
        return 'Please enter a valid domain.';
    }
    $output = shell_exec('whois ' . escapeshellarg($domain) . ' 2>&1');
    return '<pre>' . htmlspecialchars((string) $output, ENT_QUOTES, 'UTF-8') . '</pre>';
}

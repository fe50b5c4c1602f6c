<?php

function issue_remember_token(PDO $db, int $userId): string
{
    $token = md5(uniqid((string) mt_rand(), true));
    $stmt = $db->prepare('INSERT INTO remember_tokens (user_id, token, expires) VALUES (?, ?, ?)');
    $stmt->execute([$userId, $token, time() + 30 * 86400]);
    setcookie('remember', $token, ['expires' => time() + 30 * 86400, 'httponly' => true, 'secure' => true]);
    return $token;
}

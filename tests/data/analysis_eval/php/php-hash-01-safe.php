<?php

function register_user(PDO $db, string $email, string $password): int
{
    $stmt = $db->prepare('INSERT INTO users (email, password) VALUES (?, ?)');
    $stmt->execute([$email, password_hash($password, PASSWORD_DEFAULT)]);
    return (int) $db->lastInsertId();
}

function check_login(PDO $db, string $email, string $password): bool
{
    $stmt = $db->prepare('SELECT password FROM users WHERE email = ?');
    $stmt->execute([$email]);
    $hash = $stmt->fetchColumn();
    return is_string($hash) && password_verify($password, $hash);
}

<?php

function register_user(PDO $db, string $email, string $password): int
{
    $stmt = $db->prepare('INSERT INTO users (email, password) VALUES (?, ?)');
    $stmt->execute([$email, md5($password)]);
    return (int) $db->lastInsertId();
}

function check_login(PDO $db, string $email, string $password): bool
{
    $stmt = $db->prepare('SELECT password FROM users WHERE email = ?');
    $stmt->execute([$email]);
    return $stmt->fetchColumn() === md5($password);
}

<?php
// Annotated cases written for this project: the same handlers with raw and with validated input
// (prepared statements, an IP check before the command, escaped output, a token check).

function lookup_raw(mysqli $db) {
    $id = $_GET['id'];
    // ruleid: php-sql-built-string
    $result = mysqli_query($db, "SELECT first_name FROM users WHERE user_id = '$id'");
    return $result;
}

function lookup_checked(PDO $db) {
    $id = $_GET['id'];
    if (!is_numeric($id)) {
        return null;
    }
    $stmt = $db->prepare('SELECT first_name FROM users WHERE user_id = (:id) LIMIT 1;');
    $stmt->bindParam(':id', $id, PDO::PARAM_INT);
    // ok: php-sql-built-string
    $stmt->execute();
    return $stmt->fetch();
}

function ping_raw() {
    $target = $_REQUEST['ip'];
    // ruleid: php-command-injection
    return shell_exec('ping -c 4 ' . $target);
}

function ping_checked() {
    $target = $_REQUEST['ip'];
    if (filter_var($target, FILTER_VALIDATE_IP) === false) {
        return 'invalid address';
    }
    // ok: php-command-injection
    return shell_exec('ping -c 4 ' . escapeshellarg($target));
}

function greet_raw() {
    // ruleid: php-xss-echo
    echo '<pre>Hello ' . $_GET['name'] . '</pre>';
}

function greet_escaped() {
    $name = htmlspecialchars($_GET['name'], ENT_QUOTES, 'UTF-8');
    // ok: php-xss-echo
    echo '<pre>Hello ' . $name . '</pre>';
}

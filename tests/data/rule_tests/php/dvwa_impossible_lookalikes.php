<?php
// Look-alikes of the "impossible"-level patterns of a deliberately vulnerable training app, written
// for this project: token check, numeric checks, prepared statements, escaped output, allow-lists.

function sqli_impossible(PDO $db) {
    check_token($_REQUEST['user_token'], $_SESSION['session_token'], 'index.php');
    $id = $_GET['id'];
    $html = '';
    if (is_numeric($id)) {
        $id = intval($id);
        $data = $db->prepare('SELECT first_name, last_name FROM users WHERE user_id = (:id) LIMIT 1;');
        $data->bindParam(':id', $id, PDO::PARAM_INT);
        // ok: php-sql-built-string
        $data->execute();
        $row = $data->fetch();
        if ($data->rowCount() == 1) {
            $first = $row['first_name'];
            $last = $row['last_name'];
            $html .= "<pre>ID: {$id}<br />First name: {$first}<br />Surname: {$last}</pre>";
        }
    }
    // ok: php-xss-echo
    echo $html;
}

function sqli_low($conn) {
    $id = $_REQUEST['id'];
    $query = "SELECT first_name, last_name FROM users WHERE user_id = '$id';";
    // ruleid: php-sql-built-string
    $result = mysqli_query($conn, $query);
    $html = '';
    while ($row = mysqli_fetch_assoc($result)) {
        $html .= "<pre>ID: {$id}<br />First name: {$row['first_name']}</pre>";
    }
    // ruleid: php-xss-echo
    echo $html;
}

function exec_impossible() {
    $target = stripslashes($_REQUEST['ip']);
    $octet = explode('.', $target);
    $html = '';
    if (is_numeric($octet[0]) && is_numeric($octet[1]) && is_numeric($octet[2]) && is_numeric($octet[3]) && sizeof($octet) == 4) {
        $target = $octet[0] . '.' . $octet[1] . '.' . $octet[2] . '.' . $octet[3];
        // ok: php-command-injection
        $cmd = shell_exec('ping -c 4 ' . $target);
        $html .= "<pre>{$cmd}</pre>";
    } else {
        $html .= '<pre>ERROR: You have entered an invalid IP.</pre>';
    }
    // ok: php-xss-echo
    echo $html;
}

function exec_low() {
    $target = $_REQUEST['ip'];
    // ruleid: php-command-injection
    $cmd = shell_exec('ping -c 4 ' . $target);
    echo "<pre>{$cmd}</pre>";
}

function reflected_impossible() {
    check_token($_REQUEST['user_token'], $_SESSION['session_token'], 'index.php');
    $name = htmlspecialchars($_GET['name']);
    $html = "<pre>Hello {$name}</pre>";
    // ok: php-xss-echo
    echo $html;
}

function reflected_low() {
    $html = '<pre>Hello ' . $_GET['name'] . '</pre>';
    // ruleid: php-xss-echo
    echo $html;
}

function stored_impossible(PDO $db) {
    $message = trim($_POST['mtxMessage']);
    $name = trim($_POST['txtName']);
    $message = htmlspecialchars(stripslashes($message));
    $name = htmlspecialchars(stripslashes($name));
    $data = $db->prepare('INSERT INTO guestbook ( comment, name ) VALUES ( :message, :name );');
    $data->bindParam(':message', $message, PDO::PARAM_STR);
    $data->bindParam(':name', $name, PDO::PARAM_STR);
    $data->execute();
}

function stored_low($conn) {
    $message = trim($_POST['mtxMessage']);
    $query = "INSERT INTO guestbook ( comment ) VALUES ( '$message' );";
    // ruleid: php-sql-built-string
    mysqli_query($conn, $query);
}

function include_impossible() {
    $file = $_GET['page'];
    if ($file != 'include.php' && $file != 'file1.php' && $file != 'file2.php') {
        echo 'ERROR: File not found!';
        exit;
    }
    // ok: php-path-traversal, php-file-inclusion
    include($file);
}

function include_low() {
    $file = $_GET['page'];
    // ruleid: php-path-traversal
    include($file);
}

function redirect_impossible() {
    if (array_key_exists('redirect', $_GET) && $_GET['redirect'] != '') {
        switch (intval($_GET['redirect'])) {
            case 1:
                $target = 'info.php?id=1';
                break;
            case 2:
                $target = 'info.php?id=2';
                break;
            default:
                http_response_code(500);
                exit;
        }
        // ok: php-open-redirect
        header('location: ' . $target);
        exit;
    }
}

function redirect_low() {
    if (array_key_exists('redirect', $_GET) && $_GET['redirect'] != '') {
        // ruleid: php-open-redirect
        header('location: ' . $_GET['redirect']);
        exit;
    }
}

function csrf_impossible(PDO $db) {
    check_token($_REQUEST['user_token'], $_SESSION['session_token'], 'index.php');
    $pass_new = $_GET['password_new'];
    $pass_conf = $_GET['password_conf'];
    if ($pass_new == $pass_conf) {
        $pass_new = password_hash($pass_new, PASSWORD_DEFAULT);
        $data = $db->prepare('UPDATE users SET password = (:password) WHERE user = (:user);');
        $data->bindParam(':password', $pass_new, PDO::PARAM_STR);
        $data->bindParam(':user', dvwaCurrentUser(), PDO::PARAM_STR);
        $data->execute();
    }
}

function upload_impossible() {
    $uploaded_name = $_FILES['uploaded']['name'];
    $uploaded_ext = substr($uploaded_name, strrpos($uploaded_name, '.') + 1);
    $uploaded_tmp = $_FILES['uploaded']['tmp_name'];
    $target_path = 'hackable/uploads/';
    $target_file = md5(uniqid() . $uploaded_name) . '.' . $uploaded_ext;
    $temp_file = sys_get_temp_dir() . DIRECTORY_SEPARATOR . md5(uniqid() . $uploaded_name) . '.' . $uploaded_ext;
    if (strtolower($uploaded_ext) == 'png' && getimagesize($uploaded_tmp)) {
        $img = imagecreatefrompng($uploaded_tmp);
        imagepng($img, $temp_file, 9);
        imagedestroy($img);
        // ok: php-path-traversal
        rename($temp_file, getcwd() . DIRECTORY_SEPARATOR . $target_path . $target_file);
    }
}

function file_read_impossible() {
    $file = $_GET['doc'];
    $allowed = ['terms.txt', 'help.txt'];
    if (!in_array($file, $allowed, true)) {
        exit;
    }
    // ok: php-path-traversal, php-ssrf
    echo file_get_contents('docs/' . $file);
}

function file_read_low() {
    // ruleid: php-path-traversal
    echo file_get_contents('docs/' . $_GET['doc']);
}

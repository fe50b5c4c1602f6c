from lxml import etree

USERS = etree.parse("/etc/app/users.xml")


def check_login(username: str, password: str) -> bool:
    expr = "//user[name/text()=$u and pass/text()=$p]"
    return bool(USERS.xpath(expr, u=username, p=password))

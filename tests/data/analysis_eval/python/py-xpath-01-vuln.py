from lxml import etree

USERS = etree.parse("/etc/app/users.xml")


def check_login(username: str, password: str) -> bool:
    expr = "//user[name/text()='%s' and pass/text()='%s']" % (username, password)
    return bool(USERS.xpath(expr))

from jinja2 import Template


def render_notification(tenant_template: str, user: dict) -> str:
    tpl = Template(tenant_template)
    return tpl.render(user=user, company=user.get("company", ""))

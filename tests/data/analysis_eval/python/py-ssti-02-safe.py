from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(autoescape=True)


def render_notification(tenant_template: str, user: dict) -> str:
    tpl = _env.from_string(tenant_template)
    return tpl.render(user=user, company=user.get("company", ""))

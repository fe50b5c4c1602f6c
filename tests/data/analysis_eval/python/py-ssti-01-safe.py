from flask import Flask, render_template_string, request

app = Flask(__name__)

PAGE = """
<html><body>
  <div class="card"><h2>{{ message }}</h2><p>from {{ sender }}</p></div>
</body></html>
"""


@app.route("/card")
def greeting_card():
    message = request.args.get("message", "Happy birthday")
    return render_template_string(PAGE, message=message, sender=request.args.get("from", "a friend"))

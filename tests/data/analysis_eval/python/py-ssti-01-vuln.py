from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/card")
def greeting_card():
    message = request.args.get("message", "Happy birthday")
    page = """
    <html><body>
      <div class="card"><h2>%s</h2><p>from {{ sender }}</p></div>
    </body></html>
    """ % message
    return render_template_string(page, sender=request.args.get("from", "a friend"))

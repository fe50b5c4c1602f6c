"""The Textual UI. Entry: `app.tui.launch.launch()`; factory: `app.tui.app.make_app`."""

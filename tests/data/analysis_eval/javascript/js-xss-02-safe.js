function showFlash() {
  const box = document.getElementById('flash');
  const params = new URLSearchParams(window.location.hash.slice(1));
  const msg = params.get('msg');
  if (!msg) return;
  const alert = document.createElement('div');
  alert.className = 'alert';
  alert.textContent = msg;
  box.replaceChildren(alert);
  box.hidden = false;
}

document.addEventListener('DOMContentLoaded', showFlash);

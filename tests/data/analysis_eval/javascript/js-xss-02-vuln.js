function showFlash() {
  const box = document.getElementById('flash');
  const params = new URLSearchParams(window.location.hash.slice(1));
  const msg = params.get('msg');
  if (!msg) return;
  box.innerHTML = '<div class="alert">' + decodeURIComponent(msg) + '</div>';
  box.hidden = false;
}

document.addEventListener('DOMContentLoaded', showFlash);

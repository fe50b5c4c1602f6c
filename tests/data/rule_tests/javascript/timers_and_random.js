// Annotated cases written for this project: timers given functions, Math.random for non-secrets.
const crypto = require('crypto');

function startClock(el) {
    // ok: js-code-from-string
    setInterval(function () {
        el.textContent = "Time: " + new Date().toLocaleTimeString();
    }, 1000);
    // ok: js-code-from-string
    setTimeout(() => { el.className = "tick " + el.dataset.mode; }, 500);
    // ok: js-code-from-string
    setInterval(refresh, 250);
    // ok: js-code-from-string
    setTimeout("refresh()", 100);
}

function scheduleUpdate(id) {
    // ruleid: js-code-from-string
    setTimeout("updateRow(" + id + ")", 100);
    // ruleid: js-code-from-string
    setInterval(`poll('${id}')`, 1000);
}

function animate(items) {
    // ok: js-insecure-random-for-secret
    const spinnerDelay = Math.random() * 500;
    // ok: js-insecure-random-for-secret
    const keyframeOffset = Math.floor(Math.random() * 10);
    // ok: js-insecure-random-for-secret
    const authorIndex = Math.floor(Math.random() * items.length);
    // ok: js-insecure-random-for-secret
    const monkeyX = Math.random();
    // ok: js-insecure-random-for-secret
    const jitterMs = 100 + Math.random() * 50;
    return [spinnerDelay, keyframeOffset, authorIndex, monkeyX, jitterMs];
}

function shuffleKeys(keys) {
    for (let i = keys.length - 1; i > 0; i--) {
        // ok: js-insecure-random-for-secret
        const j = Math.floor(Math.random() * (i + 1));
        [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    return keys;
}

function makeSession(user) {
    // ruleid: js-insecure-random-for-secret
    const sessionId = Math.random().toString(36).slice(2);
    // ruleid: js-insecure-random-for-secret
    const resetToken = Math.random().toString(36).substring(2);
    // ruleid: js-insecure-random-for-secret
    const apiKey = 'k' + Math.floor(Math.random() * 1e16);
    // ruleid: js-insecure-random-for-secret
    user.csrf_token = Math.random().toString(16);
    return { sessionId, resetToken, apiKey };
}

function generateToken() {
    // ruleid: js-insecure-random-for-secret
    return Math.random().toString(36).slice(2);
}

function makeSessionSafe(user) {
    // ok: js-insecure-random-for-secret
    const sessionId = crypto.randomBytes(16).toString('hex');
    // ok: js-insecure-random-for-secret
    const resetToken = crypto.randomUUID();
    return { sessionId, resetToken };
}

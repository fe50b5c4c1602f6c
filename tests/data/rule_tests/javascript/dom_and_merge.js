// Annotated cases written for this project: DOM sources into HTML/URL sinks, recursive merges.

function showGreeting() {
    const name = decodeURIComponent(location.hash.slice(1));
    // ruleid: js-dom-xss-url-source
    document.getElementById('greeting').innerHTML = 'Hello ' + name;
    // ok: js-dom-xss-url-source
    document.getElementById('greeting').textContent = 'Hello ' + name;
    // ok: js-dom-xss-url-source
    document.getElementById('greeting').innerHTML = DOMPurify.sanitize('Hello ' + name);
}

function followNext() {
    const next = new URLSearchParams(location.search).get('next');
    const link = document.querySelector('#continue');
    // ruleid: js-dom-xss-url-source
    link.href = next;
    // ok: js-dom-xss-url-source
    link.href = '/account?from=' + encodeURIComponent(next);
    // ok: js-dom-xss-url-source
    link.href = '/account?from=' + next;
}

window.addEventListener('message', (event) => {
    // ruleid: js-dom-xss-url-source
    document.getElementById('inbox').insertAdjacentHTML('beforeend', event.data);
});

function mergeDeep(target, source) {
    for (const key in source) {
        if (typeof source[key] === 'object' && source[key] !== null) {
            if (!target[key]) target[key] = {};
            // ruleid: js-prototype-pollution
            mergeDeep(target[key], source[key]);
        } else {
            target[key] = source[key];
        }
    }
    return target;
}

function mergeDeepSafe(target, source) {
    for (const key in source) {
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
        if (typeof source[key] === 'object' && source[key] !== null) {
            if (!target[key]) target[key] = {};
            // ok: js-prototype-pollution
            mergeDeepSafe(target[key], source[key]);
        } else {
            target[key] = source[key];
        }
    }
    return target;
}

function countWords(words) {
    const seen = {};
    for (const w of words) {
        // ok: js-prototype-pollution
        seen[w] = (seen[w] || 0) + 1;
    }
    return seen;
}

function cloneDeep(obj) {
    const copy = Array.isArray(obj) ? [] : {};
    for (const key in obj) {
        // ok: js-prototype-pollution
        copy[key] = typeof obj[key] === 'object' ? cloneDeep(obj[key]) : obj[key];
    }
    return copy;
}

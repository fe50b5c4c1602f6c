interface ChatMessage { from: string; text: string; at: number }

export function appendMessage(list: HTMLElement, msg: ChatMessage): void {
  const time = new Date(msg.at).toLocaleTimeString();
  list.insertAdjacentHTML(
    'beforeend',
    `<li><span class="who">${msg.from}</span> <time>${time}</time><p>${msg.text}</p></li>`
  );
  list.scrollTop = list.scrollHeight;
}

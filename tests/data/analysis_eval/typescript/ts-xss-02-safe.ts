interface ChatMessage { from: string; text: string; at: number }

export function appendMessage(list: HTMLElement, msg: ChatMessage): void {
  const li = document.createElement('li');
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = msg.from;
  const time = document.createElement('time');
  time.textContent = new Date(msg.at).toLocaleTimeString();
  const body = document.createElement('p');
  body.textContent = msg.text;
  li.append(who, ' ', time, body);
  list.appendChild(li);
  list.scrollTop = list.scrollHeight;
}

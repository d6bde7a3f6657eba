/** A short message about what an operation did, until the next one or a few seconds. */
let timer = null;

export function toast(message, kind = "info") {
  const element = document.getElementById("toast");
  element.textContent = message;
  element.dataset.kind = kind;
  element.classList.add("shown");
  clearTimeout(timer);
  timer = setTimeout(() => element.classList.remove("shown"), 6000);
}

/**
 * Every operation asks first, in a modal dialog that names what will change: a click on the
 * wrong node's button must not put it in standby.
 */
export function confirmAction(question) {
  const dialog = document.getElementById("confirm");
  dialog.querySelector(".question").textContent = question;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), {
      once: true,
    });
    dialog.showModal();
  });
}

// A button with data-copy="ID" copies the value of the element with that id to the clipboard.
// A file, not inline: the Content-Security-Policy allows only scripts from this service.
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  const field = document.getElementById(button.dataset.copy);
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    // No clipboard access (an insecure origin, a refused permission): the text stays selected
    // for the keyboard's copy.
    button.textContent = "Press Ctrl+C to copy";
  }
});

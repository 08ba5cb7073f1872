// Live availability board: replaces a hospital's counts when a bed changes anywhere,
// and shows alerts as they are raised. No patient data ever travels on this socket.
(function () {
  "use strict";
  const table = document.getElementById("board");
  if (!table || !window.WebSocket) { return; }
  const path = table.dataset.livePath;
  const status = document.getElementById("live-status");
  const alerts = document.getElementById("alerts");
  let retry = 1000;

  function setStatus(text, ok) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("live-ok", ok);
  }

  function update(entry) {
    const row = table.querySelector('tr[data-hospital="' + entry.hospital_id + '"]');
    if (!row) { return; }
    Object.keys(entry.kinds).forEach(function (kind) {
      const cell = row.querySelector('td[data-kind="' + kind + '"]');
      if (cell) {
        const c = entry.kinds[kind];
        cell.textContent = c.total ? c.free + " / " + c.total : "—";
        cell.classList.toggle("none-free", c.total > 0 && c.free === 0);
      }
    });
    const free = row.querySelector("td[data-free]");
    if (free) { free.textContent = entry.free; }
    row.classList.add("changed");
    window.setTimeout(function () { row.classList.remove("changed"); }, 1500);
  }

  function showAlert(alert) {
    if (!alerts) { return; }
    const item = document.createElement("li");
    item.className = "alert";
    item.textContent = alert.message;  // text, never HTML
    alerts.prepend(item);
    alerts.hidden = false;
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + path);
    socket.onopen = function () { retry = 1000; setStatus("live", true); };
    socket.onmessage = function (event) {
      const data = JSON.parse(event.data);
      if (data.type === "availability") { update(data.entry); }
      if (data.type === "alert") { showAlert(data.alert); }
    };
    socket.onclose = function () {
      setStatus("reconnecting…", false);
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();

// The front-desk calendar: the current-time line, and moving a booked session by dragging it or
// with the arrow keys. A move is POSTed to the session's drop address (data-move), which calls
// the booking service: on success the calendar is fetched again; on a refusal the service's
// reason is shown beside the session, which stays where it was.
// No inline styles (CSP): positions are classes (cal-now, cal-now-m0 ... cal-now-m14).
(function () {
  "use strict";

  var QUARTER = 15;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function hm(minutes) {
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function minutesOf(text) {
    var parts = text.split(":");
    return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }

  // --- the current-time line ---------------------------------------------------------------

  // Today's date and the wall-clock minute in the clinic's zone, whatever the browser's zone.
  function clinicNow(zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date())
      .forEach(function (p) {
        parts[p.type] = p.value;
      });
    return {
      date: parts.year + "-" + parts.month + "-" + parts.day,
      minute: parseInt(parts.hour, 10) * 60 + parseInt(parts.minute, 10),
    };
  }

  function drawNowLine() {
    document.querySelectorAll("tr.cal-now").forEach(function (row) {
      row.className = row.className.replace(/\s*cal-now(-m\d+)?/g, "");
    });
    var table = document.querySelector(".cal-table[data-today]");
    if (!table) {
      return;
    }
    var now = clinicNow(table.dataset.zone);
    if (now.date !== table.dataset.today) {
      return;
    }
    var row = table.querySelector(
      'tr[data-at="' + hm(now.minute - (now.minute % QUARTER)) + '"]'
    );
    if (row) {
      row.classList.add("cal-now", "cal-now-m" + (now.minute % QUARTER));
    }
  }

  // --- moving a session ---------------------------------------------------------------------

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function announce(text) {
    var status = document.getElementById("calendar-status");
    if (status) {
      status.textContent = text;
    }
  }

  // The column header under a horizontal position: its day and practitioner or room.
  function headerAt(table, x) {
    var heads = table.querySelectorAll("thead th[data-day]");
    for (var i = 0; i < heads.length; i++) {
      var box = heads[i].getBoundingClientRect();
      if (x >= box.left && x < box.right) {
        return { index: i, head: heads[i], heads: heads };
      }
    }
    return null;
  }

  // The quarter-hour row under a vertical position.
  function rowAt(table, y) {
    var rows = table.querySelectorAll("tbody tr[data-at]");
    for (var i = 0; i < rows.length; i++) {
      var box = rows[i].getBoundingClientRect();
      if (y >= box.top && y < box.bottom) {
        return rows[i];
      }
    }
    return null;
  }

  function showRefusal(cell, text) {
    var old = cell.querySelector(".cal-refusal");
    if (old) {
      old.remove();
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger cal-refusal";
    alert.setAttribute("role", "alert");
    var words = document.createElement("span");
    words.textContent = "Not moved: " + text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", function () {
      var block = cell.querySelector(".cal-block");
      alert.remove();
      if (block) {
        block.focus();
      }
    });
    alert.appendChild(words);
    alert.appendChild(close);
    cell.appendChild(alert);
  }

  function refresh(sessionId) {
    if (!window.htmx) {
      window.location.reload();
      return;
    }
    window.htmx
      .ajax("GET", window.location.href, { target: "#calendar", swap: "outerHTML" })
      .then(function () {
        var block = document.querySelector("#session-" + sessionId + " .cal-block");
        if (block) {
          block.focus();
        }
      });
  }

  function move(block, target) {
    var cell = block.closest("td");
    var sessionId = cell.id.replace("session-", "");
    var body = new URLSearchParams();
    body.set("date", target.day);
    body.set("time", target.time);
    if (target.practitioner) {
      body.set("practitioner", target.practitioner);
    }
    if (target.room) {
      body.set("room", target.room);
    }
    cell.classList.add("cal-moving");
    fetch(block.dataset.move, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: body.toString(),
    })
      .then(function (response) {
        return response.json().catch(function () {
          return { ok: false, error: "The calendar could not be reached. Try again." };
        });
      })
      .then(function (answer) {
        cell.classList.remove("cal-moving");
        if (answer.ok) {
          announce(answer.message);
          refresh(sessionId);
        } else {
          announce("Not moved: " + answer.error);
          showRefusal(cell, answer.error);
        }
      })
      .catch(function () {
        cell.classList.remove("cal-moving");
        showRefusal(cell, "The calendar could not be reached. Try again.");
      });
  }

  function targetOf(found, time) {
    var data = found.head.dataset;
    return { day: data.day, time: time, practitioner: data.practitioner, room: data.room };
  }

  var dragging = null;

  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".cal-block[data-move]");
    if (!block) {
      return;
    }
    var box = block.getBoundingClientRect();
    dragging = { block: block, offset: event.clientY - box.top };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.closest("td").id);
  });

  document.addEventListener("dragend", function () {
    dragging = null;
  });

  document.addEventListener("dragover", function (event) {
    if (dragging && event.target.closest && event.target.closest(".cal-table tbody")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });

  document.addEventListener("drop", function (event) {
    var table = event.target.closest && event.target.closest(".cal-table");
    if (!dragging || !table) {
      return;
    }
    event.preventDefault();
    var block = dragging.block;
    var offset = dragging.offset;
    dragging = null;
    var found = headerAt(table, event.clientX);
    // Where the block's top edge lands, to the nearest quarter hour.
    var firstRow = table.querySelector("tbody tr[data-at]");
    var half = firstRow ? firstRow.getBoundingClientRect().height / 2 : 0;
    var row = rowAt(table, event.clientY - offset + half);
    if (!found || !row) {
      showRefusal(block.closest("td"), "Drop the session on a time in the calendar.");
      return;
    }
    move(block, targetOf(found, row.dataset.at));
  });

  // Keyboard: the arrow keys move a focused booked session by a quarter hour (up, down) or to
  // the column beside it (left, right: the next practitioner, room or day).
  document.addEventListener("keydown", function (event) {
    var block = event.target.closest && event.target.closest(".cal-block[data-move]");
    var keys = {
      ArrowUp: [0, -QUARTER],
      ArrowDown: [0, QUARTER],
      ArrowLeft: [-1, 0],
      ArrowRight: [1, 0],
    };
    if (!block || !keys[event.key] || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    event.preventDefault();
    var table = block.closest(".cal-table");
    var box = block.getBoundingClientRect();
    var found = headerAt(table, box.left + box.width / 2);
    if (!found) {
      return;
    }
    var step = keys[event.key];
    var index = found.index + step[0];
    var minute = minutesOf(block.dataset.at) + step[1];
    if (index < 0 || index >= found.heads.length || minute < 0 || minute >= 24 * 60) {
      showRefusal(block.closest("td"), "There is no column or time that way.");
      return;
    }
    move(block, targetOf({ head: found.heads[index] }, hm(minute)));
  });

  function start() {
    drawNowLine();
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", drawNowLine);
  window.setInterval(drawNowLine, 30 * 1000);
  if (document.readyState !== "loading") {
    start();
  }
})();

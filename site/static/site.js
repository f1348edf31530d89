// Optional: adds "(5 minutes ago)" after each <time data-rel>; every page works without it.
(function () {
  if (!window.Intl || !Intl.RelativeTimeFormat) return;
  var fmt = new Intl.RelativeTimeFormat(document.documentElement.lang || "en", { numeric: "auto" });
  var units = [["second", 60], ["minute", 60], ["hour", 24], ["day", 365], ["year", Infinity]];
  document.querySelectorAll("time[data-rel]").forEach(function (el) {
    var delta = (Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000;
    if (isNaN(delta)) return;
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(delta) < units[i][1]) break;
      delta /= units[i][1];
    }
    var rel = document.createElement("span");
    rel.className = "rel";
    rel.textContent = " (" + fmt.format(Math.round(delta), units[i][0]) + ")";
    el.after(rel);
  });
})();

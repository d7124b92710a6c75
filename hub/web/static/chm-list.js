// <chm-list src="https://hub.example.org/widget/decisions?meeting=COP-15&lang=fr&format=fragment"></chm-list>
// Fetches the hub's widget fragment (no cookies sent) and shows it in a shadow root with the widget's stylesheet.
class ChmList extends HTMLElement {
  async connectedCallback() {
    const src = this.getAttribute("src");
    if (!src) return;
    const url = new URL(src, document.baseURI);
    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    try {
      const response = await fetch(url, { credentials: "omit", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(String(response.status));
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = new URL("/static/widget.css", url).href;
      root.replaceChildren(style, ...doc.body.childNodes);
      this.setAttribute("data-state", "loaded");
    } catch (error) {
      root.textContent = "";
      this.setAttribute("data-state", "failed");
    }
  }
}
customElements.define("chm-list", ChmList);

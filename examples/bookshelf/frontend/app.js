// The bookshelf page: talks to the API on the same origin (stratus start serves both).
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.message) || `${method} ${path}: ${response.status}`);
  return data;
}

function showError(error) {
  $("error").textContent = error ? error.message : "";
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  return td;
}

function button(label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", action);
  return b;
}

async function load() {
  try {
    const { books } = await api("GET", "/books");
    const rows = books.map((book) => {
      const tr = document.createElement("tr");
      tr.dataset.id = book.id;
      tr.append(cell(book.title), cell(book.author), cell(book.year));
      const actions = document.createElement("td");
      actions.append(button("Edit", () => edit(book)), " ", button("Delete", () => remove(book.id)));
      tr.append(actions);
      return tr;
    });
    $("books").replaceChildren(...rows);
    $("empty").hidden = books.length > 0;
    showError(null);
  } catch (error) {
    showError(error);
  }
}

function edit(book) {
  $("book-id").value = book.id;
  $("title").value = book.title || "";
  $("author").value = book.author || "";
  $("year").value = book.year || "";
  $("save").textContent = "Save changes";
  $("cancel").hidden = false;
}

function reset() {
  $("book-form").reset();
  $("book-id").value = "";
  $("save").textContent = "Add book";
  $("cancel").hidden = true;
}

async function remove(id) {
  try {
    await api("DELETE", `/books/${encodeURIComponent(id)}`);
    await load();
  } catch (error) {
    showError(error);
  }
}

$("book-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const book = { title: $("title").value, author: $("author").value, year: $("year").value };
  const id = $("book-id").value;
  try {
    if (id) await api("PUT", `/books/${encodeURIComponent(id)}`, book);
    else await api("POST", "/books", book);
    reset();
    await load();
  } catch (error) {
    showError(error);
  }
});
$("cancel").addEventListener("click", reset);

api("POST", "/visits")
  .then(({ visits }) => { $("visits").textContent = `Visit number ${visits}`; })
  .catch(() => { $("visits").textContent = ""; });
load();

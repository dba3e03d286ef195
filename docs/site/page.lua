-- page.lua - the pandoc filter behind every page of the site (make site;
-- docs/site/build.sh runs it). pandoc reads the Markdown (gfm); this filter
-- only rearranges pandoc's own document tree:
--
--  * side by side: an event1 column and an event2 column, from either form
--    a walkthrough may use:
--      - the old one, an HTML table: <table><tr><th>event1</th>... around
--        snippet blocks, <tr><td> ... </td><td> ... </td></tr></table>;
--      - the pager one (docs/site/convert.py writes it): a paragraph that is
--        only **event1**, its snippet blocks, a paragraph **event2**, its
--        snippet blocks.
--  * every snippet block (<!-- snippet: FILE [REGION] --> ... <!-- end
--    snippet -->) gets a caption naming its file, linked to the file's page;
--  * after a snippet of a lesson's expected trace, on a walkthrough, that
--    trace's timelines (made by docs/site/timeline.py), and at the end of
--    a walkthrough a "Timelines" section for the traces it does not show;
--  * links between files of the course become links between pages (a .md
--    becomes its .html, a directory its README, any other file its source
--    page), and every target is written to the list of links (site-links)
--    so that build.sh makes the pages they point to;
--  * the first heading becomes the page's title and the others its table
--    of contents (metadata toc-local, which the template lays out).
--
-- build.sh starts a pandoc per core, each on an empty document, with -M:
-- site-batch, the file of the pages it renders (see Pandoc() below);
-- site-files, a file listing every file of the course tree; site-links,
-- the file it appends link targets to; site-languages, the languages pandoc
-- highlights. A page's kind: walkthrough, page (one the site is for),
-- linked (a Markdown file another page links to: a link of its that leads
-- nowhere, as a release's README has, becomes text), source or listing.

local stringify = pandoc.utils.stringify

local src, kind, files, links_out, languages_file
local files_set, dirs_set = {}, {}
local page_dir = ""

-- --- Paths -------------------------------------------------------------------

local function split(path)
  local parts = {}
  for part in path:gmatch("[^/]+") do table.insert(parts, part) end
  return parts
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or ""
end

-- "a/b/../c/./d" -> "a/c/d"; nil when it leaves the tree.
local function collapse(path)
  local out = {}
  for _, part in ipairs(split(path)) do
    if part == ".." then
      if #out == 0 then return nil end
      table.remove(out)
    elseif part ~= "." then
      table.insert(out, part)
    end
  end
  return table.concat(out, "/")
end

-- The relative URL from directory `from` to the path `to` (both in the tree).
local function relative(from, to)
  local a, b = split(from), split(to)
  local i = 1
  while i <= #a and i < #b and a[i] == b[i] do i = i + 1 end
  local up = {}
  for _ = i, #a do table.insert(up, "..") end
  for j = i, #b do table.insert(up, b[j]) end
  return table.concat(up, "/")
end

local function record(what, path)
  if links_out then links_out:write(what, " ", path, "\n") end
end

local function is_image(path)
  return path:match("%.svg$") or path:match("%.png$") or path:match("%.jpe?g$") or path:match("%.gif$")
end

-- A link target in the tree -> its page's path in the site, or nil.
local function page_of(path)
  if path == "" then path = "README.md" end
  if files_set[path] == nil and dirs_set[path] then
    if files_set[path .. "/README.md"] then
      path = path .. "/README.md"
    else
      record("dir", path)
      return path .. "/index.html"
    end
  end
  if not files_set[path] then return nil end
  if path:match("%.md$") then
    record("md", path)
    return (path:gsub("%.md$", ".html"))
  elseif is_image(path) then
    record("asset", path)
    return path
  end
  record("src", path)
  return path .. ".html"
end

local function rewrite(target)
  if target:match("^%a[%w+.-]*:") or target:match("^//") or target:match("^#") or target == "" then
    return target
  end
  local path, fragment = target:match("^([^#]*)(#?.*)$")
  local whole = collapse((page_dir ~= "" and page_dir .. "/" or "") .. path)
  local page = whole and page_of((whole:gsub("/$", "")))
  if page == nil then
    if kind == "linked" then
      io.stderr:write("site: note: ", src, ": link to ", target, ", which is not in the course: left as text\n")
      return nil
    end
    io.stderr:write("site: ", src, ": link to ", target, ", which is not in the course\n")
    return target
  end
  return relative(page_dir, page) .. fragment
end

-- The URL of a path of the site from this page.
local function site_url(path)
  return relative(page_dir, path)
end

-- --- Snippet blocks ----------------------------------------------------------

local function raw_html(block)
  return block.t == "RawBlock" and (block.format == "html") and block.text or nil
end

local function snippet_start(block)
  local text = raw_html(block)
  if not text then return nil end
  local file, region = text:match("^<!%-%- snippet: (%S+) ?(%S*) %-%->%s*$")
  if file == nil then return nil end
  return file, region
end

local function snippet_end(block)
  local text = raw_html(block)
  return text ~= nil and text:match("^<!%-%- end snippet %-%->%s*$") ~= nil
end

-- The snippet group starting at blocks[i]: a Div with its caption and code,
-- the index after it, and the file it shows; nil if none starts there.
local function snippet_at(blocks, i)
  local file, region = snippet_start(blocks[i] or pandoc.Null())
  if file == nil then return nil end
  local j, inner = i + 1, {}
  while blocks[j] ~= nil and not snippet_end(blocks[j]) do
    table.insert(inner, blocks[j])
    j = j + 1
  end
  if blocks[j] == nil then return nil end
  local name = file:match("[^/]+$")
  local target = page_of(file)
  local caption = {}
  if target then
    table.insert(caption, pandoc.Link({pandoc.Code(name)}, site_url(target), "", {class = "file"}))
  else
    table.insert(caption, pandoc.Code(name))
  end
  if region ~= "" then
    table.insert(caption, pandoc.Space())
    table.insert(caption, pandoc.Span({pandoc.Str(region)}, {class = "region"}))
  end
  for _, b in ipairs(inner) do
    if b.t == "CodeBlock" and file:match("%.trace$") then b.classes = {"trace"} end
  end
  local content = pandoc.List({pandoc.Div({pandoc.Plain(caption)}, {class = "caption"})})
  content:extend(inner)
  return pandoc.Div(content, {class = "snippet"}), j + 1, file
end

-- --- Side by side --------------------------------------------------------------

local function label_of(block)
  if block and block.t == "Para" and #block.content == 1 and block.content[1].t == "Strong" then
    local word = stringify(block.content[1])
    if word == "event1" or word == "event2" then return word end
  end
  return nil
end

local function column(style, content)
  local head = pandoc.Div({pandoc.Plain({pandoc.Str(style), pandoc.Space(),
    pandoc.Span({pandoc.Str(style == "event1" and "libevent 1.x style" or "libevent 2.x style")}, {class = "style-name"})})},
    {class = "side-head"})
  local blocks = pandoc.List({head})
  blocks:extend(content)
  return pandoc.Div(blocks, {class = "side " .. style})
end

local function pair(left, right)
  return pandoc.Div({column("event1", left), column("event2", right)}, {class = "pair"})
end

-- Snippet groups from blocks[i] on: the Divs, the index after them.
local function snippets_from(blocks, i, shown)
  local out = pandoc.List()
  while true do
    local div, after, file = snippet_at(blocks, i)
    if div == nil then return out, i end
    out:insert(div)
    if shown then table.insert(shown, file) end
    i = after
  end
end

-- The pager form at blocks[i]: **event1**, snippets, **event2**, snippets.
local function pager_pair_at(blocks, i, shown)
  if label_of(blocks[i]) ~= "event1" then return nil end
  local left, j = snippets_from(blocks, i + 1, shown)
  if #left == 0 or label_of(blocks[j]) ~= "event2" then return nil end
  local right, k = snippets_from(blocks, j + 1, shown)
  if #right == 0 then return nil end
  return pair(left, right), k
end

-- The table form at blocks[i].
local function table_pair_at(blocks, i, shown)
  local open = raw_html(blocks[i] or pandoc.Null())
  if not open or not open:match("^<table>") or not open:match("<th>event1</th>") then return nil end
  local left, j = snippets_from(blocks, i + 1, shown)
  local middle = raw_html(blocks[j] or pandoc.Null())
  if not middle or not middle:match("^</td><td>%s*$") then return nil end
  local right, k = snippets_from(blocks, j + 1, shown)
  local close = raw_html(blocks[k] or pandoc.Null())
  if not close or not close:match("^</td></tr>%s*</table>%s*$") then return nil end
  return pair(left, right), k + 1
end

-- --- Timelines -----------------------------------------------------------------

-- lessons/04-signals/expected.trace -> its two timeline images, side by side.
local function timelines(trace)
  local lesson, base = trace:match("^lessons/([^/]+)/(expected[^/]*)%.trace$")
  if lesson == nil then return nil end
  local function img(style)
    local path = "img/timelines/" .. lesson .. "/" .. base .. "." .. style .. ".svg"
    return pandoc.Para({pandoc.Link({pandoc.Image({pandoc.Str("Timeline of " .. trace .. ", " .. style)},
      site_url(path), "")}, site_url(path))})
  end
  local role = base:match("^expected%-(.+)$")
  local head = pandoc.Div({pandoc.Plain({pandoc.Str("Timeline" .. (role and (" of the " .. role) or "")
      .. ": one lane per event, time downwards, made from "),
    pandoc.Link({pandoc.Code(trace:match("[^/]+$"))}, site_url(page_of(trace) or trace)),
    pandoc.Str(" by the build. "),
    pandoc.Link({pandoc.Str("How to read it")}, site_url("lifecycle.html") .. "#reading-a-timeline"),
    pandoc.Str(".")})}, {class = "timeline-head"})
  return pandoc.Div({head, pair({img("event1")}, {img("event2")})}, {class = "timeline"})
end

-- The expected traces of the lesson a walkthrough docs/lessons/D.md is for.
local function lesson_traces()
  local lesson = src:match("^docs/lessons/([^/]+)%.md$")
  local out = {}
  if lesson == nil then return out end
  for _, f in ipairs(files) do
    if f:match("^lessons/" .. lesson:gsub("%-", "%%-") .. "/expected[^/]*%.trace$") then table.insert(out, f) end
  end
  table.sort(out)
  return out
end

-- --- The whole page ------------------------------------------------------------

-- <!-- svg: FILE --> (the lifecycle page): the SVG itself, inline, less
-- its XML prologue, so that its links work.
local function inline_svg(block)
  local text = raw_html(block)
  local path = text and text:match("^<!%-%- svg: (%S+) %-%->%s*$")
  if path == nil then return nil end
  local f = assert(io.open(path, "r"))
  local svg = f:read("a")
  f:close()
  -- graphviz's size in points goes: the viewBox scales it to the page.
  svg = svg:gsub("^.-(<svg)", "%1"):gsub('^<svg width="[^"]*" height="[^"]*"', "<svg")
  return pandoc.RawBlock("html", '<div class="wide lifecycle">\n' .. svg .. '</div>')
end

local function arrange(blocks)
  local out, shown = pandoc.List(), {}
  local i = 1
  while i <= #blocks do
    local svg = inline_svg(blocks[i])
    if svg ~= nil then
      out:insert(svg)
      i = i + 1
      goto continue
    end
    local div, after = pager_pair_at(blocks, i, nil)
    if div == nil then div, after = table_pair_at(blocks, i, nil) end
    if div ~= nil then
      out:insert(div)
      i = after
    else
      local snip, after2, file = snippet_at(blocks, i)
      if snip ~= nil then
        out:insert(snip)
        table.insert(shown, file)
        i = after2
        if kind == "walkthrough" then
          local t = timelines(file)
          if t then out:insert(t) end
        end
      else
        out:insert(blocks[i])
        i = i + 1
      end
    end
    ::continue::
  end
  if kind == "walkthrough" then
    local missing = {}
    for _, trace in ipairs(lesson_traces()) do
      local seen = false
      for _, f in ipairs(shown) do if f == trace then seen = true end end
      if not seen then table.insert(missing, trace) end
    end
    if #missing > 0 then
      out:insert(pandoc.Header(2, {pandoc.Str("Timelines")}, {id = "timelines"}))
      out:insert(pandoc.Para({pandoc.Str("The traces this walkthrough does not show above, drawn.")}))
      for _, trace in ipairs(missing) do out:insert(timelines(trace)) end
    end
  end
  return out
end

local function toc(blocks)
  local items = pandoc.List()
  for _, b in ipairs(blocks) do
    if b.t == "Header" and b.level == 2 and b.identifier ~= "" then
      items:insert({pandoc.Plain({pandoc.Link(b.content, "#" .. b.identifier)})})
    end
  end
  if #items < 2 then return nil end
  return pandoc.MetaBlocks({pandoc.BulletList(items)})
end

local function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do table.insert(out, line) end
  f:close()
  return out
end

-- The languages pandoc highlights, and the course's trace (trace.xml).
local languages = nil
function known_language(lang)
  if languages == nil then
    languages = {trace = true}
    for _, name in ipairs(read_lines(languages_file)) do languages[name] = true end
  end
  return languages[lang] == true
end


-- The page of a file that is not Markdown: its text, highlighted.
function source_page()
  local f = assert(io.open(src, "r"))
  local text = f:read("a")
  f:close()
  local lang = ({c = "c", h = "c", sh = "bash", mk = "makefile", lua = "lua", py = "python"})[src:match("%.(%w+)$") or ""]
  if src:match("Makefile$") then lang = "makefile" end
  if src:match("%.trace$") then lang = "trace" end
  local classes = lang and {lang} or {}
  local blocks = pandoc.List({pandoc.Header(1, {pandoc.Code(src)})})
  blocks:insert(pandoc.Para({pandoc.Str("The whole file, as the course has it. Up: "),
    pandoc.Link({pandoc.Str(page_dir)}, relative(page_dir, page_of(page_dir) or "index.html"))}))
  blocks:insert(pandoc.CodeBlock((text:gsub("\n$", "")), pandoc.Attr("", classes)))
  return blocks
end

-- The page of a directory without a README: its files.
function listing_page()
  local blocks = pandoc.List({pandoc.Header(1, {pandoc.Code(src .. "/")})})
  local items = pandoc.List()
  for _, f in ipairs(files) do
    if dirname(f) == src then
      local target = page_of(f)
      if target then items:insert({pandoc.Plain({pandoc.Link({pandoc.Code(f:match("[^/]+$"))}, relative(page_dir, target))})}) end
    end
  end
  blocks:insert(pandoc.BulletList(items))
  return blocks
end

-- The course's files (site-files), read once per pandoc process.
local function load_files(path)
  files = read_lines(path)
  for _, f in ipairs(files) do
    files_set[f] = true
    local d = dirname(f)
    while d ~= "" and not dirs_set[d] do
      dirs_set[d] = true
      d = dirname(d)
    end
  end
end

-- One page: doc read from its Markdown (or empty, for a source or listing
-- page), with site-src and site-kind in its metadata.
local function page(doc)
  src = stringify(doc.meta["site-src"] or "")
  kind = stringify(doc.meta["site-kind"] or "page")
  page_dir = kind == "listing" and src or dirname(src)

  doc = doc:walk({
    -- skylighting looks a class it does not know up in every syntax it
    -- has (half a second a page): sh is bash, text and the like stay plain.
    CodeBlock = function(b)
      local lang = b.classes[1]
      if lang == "sh" or lang == "shell" then b.classes[1] = "bash"
      elseif lang ~= nil and not known_language(lang) then b.classes = {} end
      return b
    end,
    Link = function(l)
      local target = rewrite(l.target)
      if target == nil then return l.content end
      l.target = target
      return l
    end,
    Image = function(i) i.src = rewrite(i.src) or i.src; return i end,
  })
  -- Pages made here hold links already made for the site.
  if kind == "source" then
    doc.blocks = source_page()
  elseif kind == "listing" then
    doc.blocks = listing_page()
  end

  local blocks = arrange(doc.blocks)
  -- The first level-1 heading is the title.
  if blocks[1] and blocks[1].t == "Header" and blocks[1].level == 1 then
    doc.meta.title = blocks[1].content
    doc.meta.pagetitle = stringify(blocks[1].content)
    blocks:remove(1)
  else
    doc.meta.pagetitle = src
  end
  doc.meta["toc-local"] = toc(blocks)
  doc.blocks = blocks
  return doc
end

-- A pandoc process renders a batch of pages (site-batch: a file, one page a
-- line: SRC, KIND, INPUT, OUTPUT, then NAME=VALUE fields for the template,
-- tab-separated), each with pandoc.write and the options pandoc was started
-- with (its template, highlighting, trace.xml): a process a page would cost
-- the build most of its time. The document pandoc itself reads is empty.
function Pandoc(doc)
  languages_file = stringify(doc.meta["site-languages"])
  load_files(stringify(doc.meta["site-files"]))
  local links_path = stringify(doc.meta["site-links"] or "")
  if links_path ~= "" then links_out = assert(io.open(links_path, "a")) end
  for _, line in ipairs(read_lines(stringify(doc.meta["site-batch"]))) do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
    local page_src, page_kind, input, output = fields[1], fields[2], fields[3], fields[4]
    local text = ""
    if page_kind ~= "source" and page_kind ~= "listing" then
      local f = assert(io.open(input, "r"))
      text = f:read("a")
      f:close()
    end
    local one = pandoc.read(text, "gfm")
    one.meta["site-src"] = page_src
    one.meta["site-kind"] = page_kind
    for k = 5, #fields do
      local name, value = fields[k]:match("^([^=]+)=(.*)$")
      -- Values are HTML (crumbs, titles): raw, as -V would pass them.
      if name then one.meta[name] = pandoc.MetaInlines({pandoc.RawInline("html", value)}) end
    end
    one = page(one)
    local out = assert(io.open(output, "w"))
    out:write(pandoc.write(one, "html5", PANDOC_WRITER_OPTIONS))
    out:close()
  end
  if links_out then links_out:close() end
  return pandoc.Pandoc({}, {pagetitle = "batch"})
end

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"runtime"
	"strings"
	"time"
)

func ncpu() int { return runtime.NumCPU() }

var (
	white  = color.RGBA{255, 255, 255, 255}
	black  = color.RGBA{30, 30, 30, 255}
	grey   = color.RGBA{200, 200, 200, 255}
	red    = color.RGBA{200, 40, 40, 255}
	series = []color.RGBA{{52, 101, 164, 255}, {245, 121, 0, 255}, {78, 154, 6, 255}, {117, 80, 123, 255}}
)

type canvas struct{ *image.RGBA }

func (c canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	draw.Draw(c.RGBA, image.Rect(x0, y0, x1, y1), &image.Uniform{col}, image.Point{}, draw.Src)
}

func (c canvas) hline(x0, x1, y int, col color.Color, dash int) {
	for x := x0; x < x1; x++ {
		if dash == 0 || (x/dash)%2 == 0 {
			c.Set(x, y, col)
			c.Set(x, y+1, col)
		}
	}
}

// text draws s upper-cased with the 5×7 font at scale; it returns the width.
func (c canvas) text(x, y int, s string, scale int, col color.Color) int {
	start := x
	for _, r := range strings.ToUpper(s) {
		g := glyphs[r]
		for row := range 7 {
			for bit := range 5 {
				if g[row]&(1<<(4-bit)) != 0 {
					c.rect(x+bit*scale, y+row*scale, x+(bit+1)*scale, y+(row+1)*scale, col)
				}
			}
		}
		x += 6 * scale
	}
	return x - start
}

func textWidth(s string, scale int) int { return len([]rune(s)) * 6 * scale }

func (c canvas) center(cx, y int, s string, scale int, col color.Color) {
	c.text(cx-textWidth(s, scale)/2, y, s, scale, col)
}

// plot draws the throughput ratios (top) and the latency by task count
// (bottom) as a PNG.
func (r *report) plot() []byte {
	const w, h = 1400, 940
	c := canvas{image.NewRGBA(image.Rect(0, 0, w, h))}
	c.rect(0, 0, w, h, white)
	r.plotRatios(c, image.Rect(0, 0, w, 470))
	r.plotScaling(c, image.Rect(0, 470, w, h))
	var buf bytes.Buffer
	_ = png.Encode(&buf, c)
	return buf.Bytes()
}

func shortConfig(s string) string {
	switch {
	case strings.HasPrefix(s, "embedded + Redis"):
		return "bbolt+redis"
	case strings.HasPrefix(s, "embedded"):
		return "bbolt"
	case strings.HasPrefix(s, "DynamoDB Local + Redis"):
		return "dynamo+redis"
	case strings.HasPrefix(s, "DynamoDB"):
		return "dynamo"
	}
	return s
}

func shortEndpoint(s string) string {
	if strings.HasPrefix(s, "GraphQL") {
		return "graphql"
	}
	return "rest"
}

func (r *report) plotRatios(c canvas, area image.Rectangle) {
	left, right, top, bottom := area.Min.X+90, area.Max.X-30, area.Min.Y+80, area.Max.Y-80
	c.text(left, area.Min.Y+20, "throughput / baseline (same run, same bytes)", 3, black)
	c.text(left, area.Min.Y+52, "clients:", 2, black)
	x := left + textWidth("clients: ", 2)
	for i, n := range []int{16, 64} {
		c.rect(x, area.Min.Y+50, x+14, area.Min.Y+64, series[i])
		x += 20 + c.text(x+20, area.Min.Y+52, fmt.Sprint(n), 2, black) + 20
	}
	type group struct {
		label  [2]string
		ratios []float64
	}
	var groups []*group
	index := map[string]*group{}
	top1 := 1.0
	for _, row := range r.rows {
		k := row.Config + "|" + row.Endpoint
		g := index[k]
		if g == nil {
			g = &group{label: [2]string{shortEndpoint(row.Endpoint), shortConfig(row.Config)}}
			index[k] = g
			groups = append(groups, g)
		}
		g.ratios = append(g.ratios, row.ratio())
		top1 = max(top1, row.ratio())
	}
	ymax := math.Ceil(top1*4) / 4
	y := func(v float64) int { return bottom - int(v/ymax*float64(bottom-top)) }
	for v := 0.0; v <= ymax+1e-9; v += 0.25 {
		c.hline(left, right, y(v), grey, 0)
		s := fmt.Sprintf("%.2f", v)
		c.text(left-10-textWidth(s, 2), y(v)-7, s, 2, black)
	}
	for _, v := range []float64{targetREST, targetGraphQL} {
		c.hline(left, right, y(v), red, 8)
	}
	c.hline(x+20, x+50, area.Min.Y+57, red, 8)
	c.text(x+60, area.Min.Y+52, "targets: rest 0.5, graphql 0.25 (warm cache)", 2, red)
	if len(groups) == 0 {
		return
	}
	gw := (right - left) / len(groups)
	for i, g := range groups {
		x0 := left + i*gw + gw/6
		bw := (gw * 2 / 3) / max(1, len(g.ratios))
		for j, v := range g.ratios {
			c.rect(x0+j*bw, y(v), x0+(j+1)*bw-4, bottom, series[j%len(series)])
			s := fmt.Sprintf("%.2f", v)
			c.center(x0+j*bw+bw/2-2, y(v)-18, s, 2, black)
		}
		cx := left + i*gw + gw/2
		c.center(cx, bottom+12, g.label[0], 2, black)
		c.center(cx, bottom+34, g.label[1], 2, black)
	}
}

func (r *report) plotScaling(c canvas, area image.Rectangle) {
	left, right, top, bottom := area.Min.X+120, area.Max.X-30, area.Min.Y+90, area.Max.Y-70
	c.text(left, area.Min.Y+20, "p50 latency, one client, by task count (log scale)", 3, black)
	x := left
	for i, n := range r.sizes2 {
		c.rect(x, area.Min.Y+58, x+14, area.Min.Y+72, series[i%len(series)])
		x += 20 + c.text(x+20, area.Min.Y+60, thousands(n)+" tasks", 2, black) + 20
	}
	if len(r.scale) == 0 {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range r.scale {
		for _, d := range row.P50 {
			if d > 0 {
				lo = min(lo, math.Log10(float64(d)))
				hi = max(hi, math.Log10(float64(d)))
			}
		}
	}
	if math.IsInf(lo, 0) {
		return
	}
	lo, hi = math.Floor(lo), math.Ceil(hi)
	if hi == lo {
		hi++
	}
	y := func(d time.Duration) int {
		v := math.Log10(float64(max(d, 1)))
		return bottom - int((v-lo)/(hi-lo)*float64(bottom-top))
	}
	for e := lo; e <= hi; e++ {
		d := time.Duration(math.Pow(10, e))
		c.hline(left, right, y(d), grey, 0)
		s := fmtDur(d)
		c.text(left-10-textWidth(s, 2), y(d)-7, strings.ReplaceAll(s, "µ", "u"), 2, black)
	}
	gw := (right - left) / len(r.scale)
	for i, row := range r.scale {
		x0 := left + i*gw + gw/8
		bw := (gw * 3 / 4) / len(r.sizes2)
		for j, n := range r.sizes2 {
			d := row.P50[n]
			c.rect(x0+j*bw, y(d), x0+(j+1)*bw-4, bottom, series[j%len(series)])
		}
		label := strings.NewReplacer("REST ", "rest ", "GraphQL ", "graphql ", " (user + stats)", "", "{ ", "", " }", "", "(first: 20)", "(20)").Replace(row.Endpoint)
		c.center(left+i*gw+gw/2, bottom+14, label, 2, black)
	}
}

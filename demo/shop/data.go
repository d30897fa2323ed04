package shop

import (
	"fmt"
	"strings"
)

// product is one item the shop sells.
type product struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	PriceCents int    `json:"price_cents"`
}

// catalogData is the shop's fixed assortment: eight products in each of
// six categories, the same on every run.
type catalogData struct {
	products []product
	byID     map[string]product
}

func newCatalogData() *catalogData {
	categories := map[string][]string{
		"books":   {"Field Guide to Birds", "Go in Practice", "The Long Walk", "Atlas of Rivers", "Cooking with Fire", "Small Gods", "Night Sky Almanac", "Knots and Splices"},
		"kitchen": {"Cast Iron Skillet", "Chef's Knife", "Pour-over Kettle", "Walnut Cutting Board", "Spice Grinder", "Dutch Oven", "Olive Oil Cruet", "Linen Apron"},
		"garden":  {"Pruning Shears", "Watering Can", "Seed Starter Kit", "Raised Bed", "Compost Bin", "Garden Kneeler", "Bird Feeder", "Rain Gauge"},
		"audio":   {"Studio Headphones", "Bookshelf Speakers", "Turntable", "Portable Radio", "USB Microphone", "Earbuds", "Phono Preamp", "Speaker Stands"},
		"toys":    {"Wooden Train Set", "Kite", "Puzzle Cube", "Building Blocks", "Marble Run", "Jigsaw 1000", "Spinning Top", "Yo-yo"},
		"outdoor": {"Trail Backpack", "Camp Stove", "Headlamp", "Water Filter", "Hammock", "Trekking Poles", "Sleeping Pad", "Enamel Mug"},
	}
	d := &catalogData{byID: map[string]product{}}
	for _, c := range categoryNames() {
		for i, name := range categories[c] {
			p := product{
				ID:         fmt.Sprintf("%s-%02d", c[:3], i+1),
				Name:       name,
				Category:   c,
				PriceCents: 499 + (len(name)*317+i*1301)%15000,
			}
			d.products = append(d.products, p)
			d.byID[p.ID] = p
		}
	}
	return d
}

// categoryNames returns the categories in a stable order.
func categoryNames() []string {
	return []string{"books", "kitchen", "garden", "audio", "toys", "outdoor"}
}

// searchTerms returns words that find something in the catalog.
func searchTerms() []string {
	return []string{"knife", "guide", "speaker", "kite", "camp", "oven", "garden", "walnut", "radio", "puzzle", "tent"}
}

// inCategory returns the products of category c (all with c == "").
func (d *catalogData) inCategory(c string) []product {
	if c == "" {
		return d.products
	}
	var out []product
	for _, p := range d.products {
		if p.Category == c {
			out = append(out, p)
		}
	}
	return out
}

// search returns the products whose name contains q, case-insensitively.
func (d *catalogData) search(q string) []product {
	q = strings.ToLower(q)
	var out []product
	for _, p := range d.products {
		if strings.Contains(strings.ToLower(p.Name), q) || strings.Contains(p.Category, q) {
			out = append(out, p)
		}
	}
	return out
}
